"""The Deployment controller, one module per concern of pkg/controller/deployment.

- controller: event handlers, claiming ReplicaSets (adopt/release) and `sync(key)`;
- sync: the steps every kind of sync shares (new ReplicaSet, scaling, history, status);
- rolling, recreate: one step of each strategy;
- progress: the Progressing condition and the progress deadline;
- util: the rules as pure functions of plain JSON dicts (hash, fenceposts, proportions);
- control: the write seams (`RSControl`, `DeploymentControl`) and their REST implementation.

Imports go one way, controller → rolling, recreate → progress → sync → control → util
(an import-linter layers contract in pyproject.toml).
"""
