"""``apisec demo``: the one-command tour on built-in sample services."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        output: Path | None = typer.Option(
            None,
            "--output",
            "-o",
            metavar="DIR",
            help="Folder the reports (or, with --serve, the ready files) are written to; created if "
            "needed. Default: apisec-report (apisec-serve with --serve).",
            show_default=False,
        ),
        serve: bool = typer.Option(
            False,
            "--serve",
            help="Keep the six sample services running and write a targets file, the CA, keys and "
            "tokens into OUTPUT, with commands to try; Ctrl-C stops them and removes those files.",
        ),
        show_raw: bool = typer.Option(
            False,
            "--show-raw",
            help="Keep each probe's raw request/response (secrets redacted) in the reports.",
        ),
        progress: bool | None = typer.Option(
            None, "--progress/--no-progress", help="Progress bar on stderr (default: only on a terminal)."
        ),
    ) -> None:
        """Start the sample SOAP service and REST API (secure and legacy, with the
        sample OAuth servers) on 127.0.0.1, assess both side by side, write every
        report format (text, Markdown, HTML, JSON, SARIF, JUnit) into OUTPUT, print
        the side-by-side table and stop the services.

        Needs no network and no setup: keys are generated into a temporary
        folder at start.  Exits 0 when the demo completed, even though the
        legacy services fail many checks (showing that is the point); use
        'apisec compare run' for a CI gate.  Exit 2 when OUTPUT cannot be written.
        """
        from rich.console import Console

        from compare.demo import run_demo
        from compare.reporters._common import group_gate_sentences, summary_sentence
        from compare.reporters.terminal import NARROW, matrix_stacked, matrix_tables
        from compare.serve import check_output_folder

        if serve:
            _serve(output or Path("apisec-serve"))
        output = output or Path("apisec-report")
        check_output_folder(output)
        console = Console() if Console().is_terminal else Console(width=160)
        console.print("[bold]apisec demo[/]: starting the sample SOAP and REST services on 127.0.0.1 …")
        result = run_demo(output, progress=progress, show_raw=show_raw)
        a = result.assessment
        for table in matrix_stacked(a) if console.width < NARROW else matrix_tables(a):
            console.print(table)
        console.print(summary_sentence(a))
        for passed, sentence in group_gate_sentences(a):
            console.print(sentence, style="green" if passed else "red", markup=False, highlight=False)
        errors = [r for r in a.results if r.finding.status.value == "error"]
        if errors:
            console.print(
                f"[magenta]{len(errors)} check(s) could not run[/] (see the reports' error findings)"
            )
        console.print(f"reports written to [bold]{output}[/] in {result.seconds:.1f}s:")
        for fmt, path in result.written.items():
            console.print(f"  {fmt:5} {path}")
        console.print(a.note, markup=False, highlight=False)
        console.print("open the HTML report in a browser")
        raise typer.Exit(0)


def _serve(folder: Path) -> None:
    """``apisec demo --serve``: run until Ctrl-C or SIGTERM (both exit 130 with
    the one 'interrupted' line), removing every file written on the way out."""
    import signal
    import time

    from compare.serve import SERVE_ENTRIES, check_output_folder, serve_samples

    check_output_folder(folder, SERVE_ENTRIES)  # before any service starts
    print("apisec demo --serve: starting the six sample services on 127.0.0.1 …", flush=True)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # same clean path as Ctrl-C
    try:
        with serve_samples(folder) as served:
            print(f"wrote {served.folder} (targets.toml, serve.env, pki/, secrets/, request.xml)")
            for name, url in served.urls.items():
                print(f"  {name:14} {url}")
            print("try:")
            for command in served.commands:
                print(f"  {command}")
            print("Ctrl-C stops the services and removes the files above.", flush=True)
            while True:
                time.sleep(3600)
    finally:
        signal.signal(signal.SIGTERM, previous)
