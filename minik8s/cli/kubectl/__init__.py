"""The kubectl-like verbs of `minik8s` (get, describe, apply, create, delete, label, scale).

- verbs: the click commands, registered on `minik8s.cli.main.cli` when imported;
- cmdutil: what every verb shares (connection flags, running the async body, error lines,
  arguments and files to objects), as kubectl's cmd/util;
- args: argument and manifest parsing, no I/O besides reading files;
- get, describe (with describe_parts), apply: one module per verb that has logic of its own;
- printers: tables, yaml, json and names, as kubectl's printers.

Nothing here is imported by a component: the verbs are clients of the API like kubectl.
"""
