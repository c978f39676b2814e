"""The `backprop-lab` command.

    backprop-lab [PROJECT]                     start the app
    backprop-lab train PROJECT --steps N [--out PATH]
    backprop-lab check PROJECT
    backprop-lab export PROJECT --format npz|json|onnx|csv -o OUT

PROJECT is a .bplab file or the name of an example (chain, xor, spiral,
digits). Exit status: 0 done, 1 the gradient check failed or training
diverged, 2 a bad argument or a bad file (one line on stderr, never a
traceback), 130 training stopped by Ctrl+C (the project is still written).
The headless commands import no Qt.
"""

import argparse
import logging
import signal
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PROG = "backprop-lab"
COMMANDS = ("train", "check", "export")
EXPORT_FORMATS = ("npz", "json", "onnx", "csv")

# the gradient check fails above this largest relative error
CHECK_THRESHOLD = 1e-6
# the gradient check uses at most this many training examples
CHECK_SAMPLE = 64
# one `train` run takes at most this many steps: its cost history, about 40
# bytes a step, stays in memory until the project is written
MAX_STEPS = 10_000_000

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad argument or file; the message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and no usage block."""

    def error(self, message):
        raise UsageError(message)


# ---------------------------------------------------------------- arguments


def _app_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Backprop Lab: watch backpropagation's calculus as it trains. "
        f"Headless commands: {', '.join(COMMANDS)} (see '{PROG} COMMAND -h').",
    )
    parser.add_argument(
        "project", nargs="?", help="a .bplab project or an example name to open"
    )
    return parser


def _commands_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG)
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    project_help = "a .bplab project or an example (chain, xor, spiral, digits)"

    train = commands.add_parser("train", help="train a project without a window")
    train.add_argument("project", help=project_help)
    train.add_argument("--steps", type=_positive_int, required=True, help="steps")
    train.add_argument(
        "--out", help="where to write the trained project (default: PROJECT)"
    )

    check = commands.add_parser(
        "check", help="compare backprop with finite differences"
    )
    check.add_argument("project", help=project_help)

    export = commands.add_parser("export", help="write weights or history")
    export.add_argument("project", help=project_help)
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument("-o", "--out", required=True, help="the file to write")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of steps")
    if value > MAX_STEPS:
        raise argparse.ArgumentTypeError(
            f"{value} steps are more than one run takes ({MAX_STEPS:,}); "
            "train again to go on"
        )
    return value


def resolve_project(argument: str) -> Path:
    """A path for a PROJECT argument: an existing path or an example's name."""
    path = Path(argument)
    if path.exists():
        return path
    from backprop_lab.files.examples import example_paths

    examples = example_paths()
    if argument in examples:
        return examples[argument]
    raise UsageError(
        f"{argument} does not exist and is not an example ({', '.join(examples)})"
    )


# ---------------------------------------------------------------- commands


def _load(argument: str):
    from backprop_lab.files.project import load_project

    return load_project(resolve_project(argument))


def run_train(args) -> int:
    from backprop_lab.engine.trainer import Trainer
    from backprop_lab.files.project import save_project

    project = _load(args.project)
    out = Path(args.out) if args.out else _default_out(args.project)
    _check_writable(out)
    trainer = Trainer.from_settings(project.network, project.dataset, project.settings)
    trainer.restore_history(project.history)

    interrupted = _train_with_progress(trainer, args.steps)
    project.network = trainer.net
    project.history = trainer.history.copy()
    save_project(project, out)

    history = project.history
    step = int(history.steps[-1]) if len(history.steps) else 0
    cost = history.train[-1] if len(history.train) else float("nan")
    print(f"trained to step {step}, cost {cost:.6g}; wrote {out}")
    if trainer.diverged:
        print(f"{PROG}: {trainer.diverged}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def _check_writable(out: Path) -> None:
    """Refuse an --out that cannot be written before any training is done."""
    if out.is_dir():
        raise UsageError(f"Cannot save {out}: it is a folder, not a file.")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"Cannot save {out}: the folder {folder} does not exist.")


def _default_out(argument: str) -> Path:
    """The project itself, or ./NAME.bplab for an example (never the shipped one)."""
    if not Path(argument).exists():
        return Path(f"{argument}.bplab")
    return Path(argument)


def _train_with_progress(trainer, n_steps: int) -> bool:
    """Run n_steps in chunks with progress on stderr; True if Ctrl+C stopped it."""
    progress = _Progress(n_steps, sys.stderr)
    stop = {"requested": False}

    def on_interrupt(signum, frame):
        stop["requested"] = True
        trainer.request_stop()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        done, chunk = 0, 1
        while done < n_steps and not stop["requested"]:
            started = time.perf_counter()
            before = trainer.steps
            cost = trainer.step(min(chunk, n_steps - done))
            ran = trainer.steps - before
            done += ran
            progress.update(done, cost)
            if ran == 0 or trainer.stopped_reason or trainer.diverged:
                break
            if time.perf_counter() - started < 0.05:
                chunk *= 2
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.finish()
    if stop["requested"]:
        print(f"{PROG}: stopped by Ctrl+C at step {trainer.steps}", file=sys.stderr)
    elif trainer.stopped_reason and not trainer.diverged:
        print(f"{PROG}: stopped: {trainer.stopped_reason}", file=sys.stderr)
    return stop["requested"]


class _Progress:
    """A progress bar on a terminal, a plain line every second otherwise."""

    WIDTH = 30

    def __init__(self, total: int, stream):
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.perf_counter()
        self.last_line = self.started

    def update(self, done: int, cost: float) -> None:
        now = time.perf_counter()
        rate = done / max(now - self.started, 1e-9)
        text = f"step {done}/{self.total}  cost {cost:.6g}  {rate:.0f} steps/s"
        if self.tty:
            filled = round(self.WIDTH * done / self.total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {text}   ")
            self.stream.flush()
        elif now - self.last_line >= 1.0 or done == self.total:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last_line = now

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run_check(args) -> int:
    from backprop_lab.engine.gradcheck import gradient_check

    project = _load(args.project)
    X, Y = project.dataset.X_train, project.dataset.Y_train
    if len(X) > CHECK_SAMPLE:
        rows = np.random.default_rng(0).choice(len(X), CHECK_SAMPLE, replace=False)
        X, Y = X[np.sort(rows)], Y[np.sort(rows)]
    result = gradient_check(project.network, X, Y, cost=project.settings.cost)
    verdict = "ok" if result.max_error <= CHECK_THRESHOLD else "FAILED"
    print(
        f"largest relative error {result.max_error:.3g} over {len(X)} examples "
        f"(limit {CHECK_THRESHOLD:g}): {verdict}"
    )
    return EXIT_OK if result.max_error <= CHECK_THRESHOLD else EXIT_FAILED


def run_export(args) -> int:
    from backprop_lab.files import export

    project = _load(args.project)
    net, cost = project.network, project.settings.cost
    if args.format == "npz":
        export.export_npz(net, args.out, cost=cost)
    elif args.format == "json":
        export.export_json(net, args.out, cost=cost)
    elif args.format == "onnx":
        export.export_onnx(net, args.out)
    else:
        export.export_history_csv(project.history, args.out)
    print(f"wrote {args.out}")
    return EXIT_OK


def run_app(args) -> int:
    project = str(resolve_project(args.project)) if args.project else None
    try:
        from backprop_lab.app.main import run
    except ImportError as error:
        raise UsageError(f"the app cannot start: {error}") from None
    return run(project)


_RUNNERS = {"train": run_train, "check": run_check, "export": run_export}


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            args = _commands_parser().parse_args(argv)
            return _RUNNERS[args.command](args)
        return run_app(_app_parser().parse_args(argv))
    except UsageError as error:
        return _fail(str(error))
    except ValueError as error:
        # ProjectError, ExportError, DataError: already one sentence
        return _fail(str(error))
    except OSError as error:
        return _fail(f"{error.filename or ''}: {error.strerror or error}".lstrip(": "))
    except KeyboardInterrupt:
        return _fail("stopped by Ctrl+C", EXIT_INTERRUPTED)
    except Exception as error:
        log.debug("unexpected error", exc_info=True)
        return _fail(f"unexpected {type(error).__name__}: {error}", EXIT_FAILED)


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    line = " ".join(message.split())
    print(f"{PROG}: {line}", file=sys.stderr)
    return status
