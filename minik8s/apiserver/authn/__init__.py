"""Who is asking: the API server's TLS, authentication chain and the seam for authorization.

Every request passes through, in order (minik8s.apiserver.authn.middleware):
1. TLS (tls.py): HTTPS only; a client certificate is asked for, not required.
2. Authentication: the x509 client certificate (x509.py), else the bearer token,
   tried as a bootstrap token (bootstrap.py) and as a ServiceAccount JWT
   (serviceaccount.py). Credentials that are present but wrong are a 401; no
   credentials at all make the request anonymous, which only the health and version
   endpoints (and kubeadm's public cluster-info ConfigMap) accept. The user
   (user.UserInfo) is attached to the request and to the task's context.
3. Authorization: Kubernetes' attributes of the request (requestinfo.py) go to an
   `Authorizer` (authorizer.py); anything but Allow is a 403.

The package imports nothing of the rest of the API server but storage lookups
handed in as callables, so each authenticator is tested on its own.
"""
