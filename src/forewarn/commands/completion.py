"""``forewarn completion bash|zsh|fish``: a shell completion script, made from the parser.

    forewarn completion bash > ~/.local/share/bash-completion/completions/forewarn
    forewarn completion zsh  > "${fpath[1]}/_forewarn"     # or: eval "$(forewarn completion zsh)"
    forewarn completion fish > ~/.config/fish/completions/forewarn.fish

Commands and their options come from the same argparse parser ``forewarn --help`` shows,
so the scripts never fall behind; an option with a fixed set of values completes them
(``--format``: the formats registered for the command's kind, from
:mod:`forewarn.render.registry`); arguments that are not options complete as file names.
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("completion", help="print a shell completion script",
                       description="Print a completion script for bash, zsh or fish, "
                                   "made from forewarn's own command-line parser.")
    p.add_argument("shell", choices=SHELLS)
    p.set_defaults(func=run)


def commands_and_options() -> dict[str, list[str]]:
    """Every command and its long options (``--help`` included), in the parser's order."""
    from forewarn.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: dict[str, list[str]] = {}
    for name, command in sub.choices.items():
        options = [s for a in command._actions for s in a.option_strings if s.startswith("--")]
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        actions = [n for a in nested for n in a.choices]
        out[name] = actions + options
    return out


def option_choices() -> dict[str, dict[str, list[str]]]:
    """Per command, its long options that take one of a fixed set of values, and the
    values (``{"scan": {"--format": ["text", "json", "jsonl", "csv"]}, ...}``)."""
    from forewarn.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: dict[str, dict[str, list[str]]] = {}
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                for option in action.option_strings:
                    if option.startswith("--"):
                        out.setdefault(name, {})[option] = [str(c) for c in action.choices]
    return out


def bash_script(table: dict[str, list[str]],
                choices: dict[str, dict[str, list[str]]] | None = None) -> str:
    cases = "\n".join(f'        {name}) words="{" ".join(words)}" ;;'
                      for name, words in table.items())
    values = "\n".join(
        f'        {name}:{option}) COMPREPLY=( $(compgen -W "{" ".join(vals)}" -- "$cur") ); '
        "return ;;"
        for name, options in (choices or {}).items() for option, vals in options.items())
    return f"""# forewarn completion for bash (forewarn completion bash)
_forewarn() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" words
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=( $(compgen -W "{" ".join(table)} --help --version" -- "$cur") )
        return
    fi
    case "${{COMP_WORDS[1]}}:$prev" in
{values}
    esac
    case "${{COMP_WORDS[1]}}" in
{cases}
        *) words="" ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    else
        COMPREPLY=( $(compgen -f -- "$cur") $(compgen -W "$words" -- "$cur") )
    fi
}}
complete -o filenames -F _forewarn forewarn
"""


def fish_script(table: dict[str, list[str]],
                choices: dict[str, dict[str, list[str]]] | None = None) -> str:
    lines = ["# forewarn completion for fish (forewarn completion fish)",
             f"complete -c forewarn -n __fish_use_subcommand -f -a '{' '.join(table)}'"]
    for name, words in table.items():
        for word in words:
            values = (choices or {}).get(name, {}).get(word)
            if values:
                lines.append(f"complete -c forewarn -n '__fish_seen_subcommand_from {name}' "
                             f"-l {word[2:]} -x -a '{' '.join(values)}'")
            elif word.startswith("--"):
                lines.append(f"complete -c forewarn -n '__fish_seen_subcommand_from {name}' "
                             f"-l {word[2:]}")
            else:
                lines.append(f"complete -c forewarn -n '__fish_seen_subcommand_from {name}' "
                             f"-f -a {word}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    table, choices = commands_and_options(), option_choices()
    if args.shell == "fish":
        print(fish_script(table, choices), end="")
    elif args.shell == "zsh":  # zsh runs the bash script through bashcompinit
        print("#compdef forewarn\nautoload -U +X bashcompinit && bashcompinit\n"
              + bash_script(table, choices), end="")
    else:
        print(bash_script(table, choices), end="")
    return 0
