"""``forewarn profile init|show``: the reader's default profile.

``init [FILE]`` writes a commented starting profile (default: where ``check`` and ``read``
look: ``$FOREWARN_PROFILE``, else ``~/.config/forewarn/profile.toml``), never over an
existing file unless ``--force``; ``show`` prints which profile ``check`` and ``read`` use
and what it avoids (under the reader's aliases).

Exit codes: 0 done; 2 a usage error, a bad profile, no profile to show, an existing file
without ``--force`` or one that cannot be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from forewarn.cli import err


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="write or show your default profile",
                       description="Write a starting profile where check and read find it, "
                                   "or show which profile they use.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="write a commented starting profile")
    init.add_argument("file", nargs="?", metavar="FILE",
                      help="where (default: $FOREWARN_PROFILE, else "
                           "~/.config/forewarn/profile.toml)")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(func=run_init)
    show = actions.add_parser("show", help="show the profile check and read use")
    show.set_defaults(func=run_show)


def run_init(args: argparse.Namespace) -> int:
    from forewarn.commands.read import OutputError
    from forewarn.profile import STARTER, default_profile_path

    path = Path(args.file) if args.file else default_profile_path()
    if path.exists() and not args.force:
        err(f"profile init: {path} exists; keep it, or pass --force to replace it")
        return 2
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STARTER, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {path}: uncomment or add the warnings you avoid")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from forewarn.profile import default_profile_path, load_profile, resolve_profile

    path = resolve_profile(None)
    if path is None:
        err(f"profile show: no profile at {default_profile_path()}; write one with "
            "'forewarn profile init'")
        return 2
    profile = load_profile(path)
    print(f"profile: {path}")
    for entry in profile.entries:
        print(f"  avoid {profile.label(entry.warning)} when {entry.min_severity} or stronger")
    if profile.min_confidence is not None:
        print(f"  confidence floor {profile.min_confidence:g}")
    return 0
