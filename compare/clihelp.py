"""Help that people read: placeholders named for what they hold (FILE, PEM,
URL, SECONDS, ID …) instead of Python types (``<str>``, ``<bool>``,
``<list[str]>``), and command descriptions that wrap to the terminal.

Applied once to the whole command tree when ``apisec`` starts
(:func:`readable_help`), so every command, including those other modules
add later, gets the same vocabulary without repeating a metavar on each
option.  An option's own ``metavar`` wins; otherwise the placeholder comes
from the option's name (the flag vocabulary of docs/cli.md) and its type.
"""

from __future__ import annotations

import re
from typing import Any

# (pattern on the parameter name, placeholder); first match wins.
_BY_NAME: tuple[tuple[str, str], ...] = (
    (r"_env$", "VAR"),
    (r"(^|_)url$|^url$|jwks$|^wsdl$", "URL"),
    (
        r"^(ca_file|trust|saml_trust|certs?|recipient|encrypt_cert|public_key|client_cert|signing_cert)$",
        "PEM",
    ),
    (r"(^|_)key$", "PEM"),
    (
        r"(_file|_dir)$|^(wordlist|users|roles|openapi|config|sample|message|saml|input|file|baseline|postman|flow_file)$",
        "FILE",
    ),
    (r"^(output|output_dir|out)$", "PATH"),
    (r"(skew|leeway|timeout|max_age|lifetime|timestamp|ttl)$", "SECONDS"),
    (r"^at$", "TIME"),
    (r"(^|_)id$|^in_response_to$|^only$", "ID"),
    (r"(audience|issuer|actor|entity)$", "URI"),
    (r"^(host|hostname)$", "HOST"),
    (r"^port$", "PORT"),
    (r"(password|secret|token)$", "SECRET"),
    (r"^header$", "'NAME: VALUE'"),
)


def placeholder(name: str, type_name: str, *, is_list: bool = False) -> str:
    """The placeholder for an option called ``name`` (Python name) of ``type_name``."""
    label = next((lab for pat, lab in _BY_NAME if re.search(pat, name)), None)
    if label is None:
        label = {"int": "N", "float": "NUMBER", "integer": "N"}.get(type_name, "TEXT")
    return f"{label} …" if is_list else label


def _join_lines(text: str | None) -> str | None:
    """Join a docstring's hard-wrapped lines inside each paragraph, so the
    help renderer wraps them to the terminal instead of keeping the breaks."""
    if not text:
        return text
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


def _label(param: Any) -> str | None:
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None  # a flag takes no value: no placeholder
    if param.metavar:
        return param.metavar
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False):
        return None  # keep the renderer's text|json
    bare = getattr(param, "bare_type", None)
    type_name = bare() if callable(bare) else getattr(getattr(param, "type", None), "name", "text")
    is_list = bool(getattr(param, "multiple", False))
    return placeholder(param.name or "", str(type_name), is_list=is_list)


def _fix_param(param: Any) -> None:
    if getattr(param, "param_type_name", "") == "argument":
        label = param.metavar or (param.name or "").upper()
        param.metavar = label
        param.display_type_rich = lambda ctx, _l=None: _l  # the name column already says it
        return
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False):
        return
    label = _label(param)
    param.display_type_rich = lambda ctx, _l=label: _l
    if label is not None:
        param.metavar = label


def readable_help(command: Any) -> Any:
    """Walk ``command`` (a click group/command) and make its help readable."""
    command.help = _join_lines(command.help)
    if getattr(command, "short_help", None):
        command.short_help = _join_lines(command.short_help)
    for param in getattr(command, "params", ()):
        _fix_param(param)
    get_help_option = getattr(command, "get_help_option", None)
    if get_help_option is not None:

        def help_option(ctx: Any, _get: Any = get_help_option) -> Any:
            opt = _get(ctx)
            if opt is not None:
                _fix_param(opt)
            return opt

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        readable_help(sub)
    return command


__all__ = ["placeholder", "readable_help"]
