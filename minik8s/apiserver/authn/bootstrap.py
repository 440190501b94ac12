"""Bootstrap tokens as bearer tokens: user system:bootstrap:<id> in system:bootstrappers.

What a joining node holds before it has a certificate. The token's Secret is read
per request (from the watch cache when it is there), so deleting the Secret, or its
expiry, ends the token at once.
"""
from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from minik8s.api import bootstraptoken
from minik8s.api import errors
from minik8s.api import identities
from minik8s.apiserver.authn import user as user_mod
from minik8s.util import pki

log = logging.getLogger(__name__)

# kube-system Secret by name, or None.
SecretGetter = Callable[[str], Awaitable[dict[str, Any] | None]]


class BootstrapTokenAuthenticator:
    def __init__(self, get_secret: SecretGetter, clock: Callable[[], datetime.datetime] = pki.utcnow) -> None:
        self.get_secret = get_secret
        self.clock = clock

    async def authenticate(self, token: str) -> user_mod.UserInfo | None:
        """None when `token` is not in the bootstrap format (another authenticator's);
        errors.Unauthorized when it is one but not a valid one."""
        parsed = bootstraptoken.parse(token)
        if parsed is None:
            return None
        token_id = parsed[0]
        secret = await self.get_secret(bootstraptoken.secret_name(token_id))
        try:
            groups = bootstraptoken.check(secret, token, self.clock())
        except bootstraptoken.TokenError as e:
            # Why goes to the log only: the client learns nothing about which tokens exist.
            log.info("bootstrap token rejected: %s", e)
            raise errors.Unauthorized() from None
        return user_mod.authenticated(identities.BOOTSTRAP_PREFIX + token_id, groups=groups)
