"""Sample services, WSDL/OpenAPI documents, policies and messages.

Read and copy from here.  The folder is installed as the import package
``apisec_samples`` so that ``apisec demo`` finds the same services in a
non-editable install.
"""


def cli_description(doc: str | None) -> str:
    """A sample's ``--help`` description from its module docstring: every
    paragraph but usage lines, whole sentences (argparse re-wraps them)."""
    paragraphs = [" ".join(p.split()) for p in (doc or "").strip().split("\n\n")]
    kept = [p for p in paragraphs if p and not p.strip("`").startswith("python -m") and not p.endswith("::")]
    return " ".join(kept)
