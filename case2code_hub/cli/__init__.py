"""The ``case2code`` command line: a thin typer app over the library, one file per command."""

from __future__ import annotations

import typer

from . import build as _build
from . import calibrate as _calibrate
from . import eval as _eval
from . import execute as _execute
from . import generate as _generate
from . import import_official as _import_official
from . import push as _push
from . import stats as _stats
from . import versions as _versions

app = typer.Typer(
    name="case2code",
    help="Case2Code synthetic data: harvest functions, write inputs, run them in a sandbox, build datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("build")(_build.build)
app.command("generate")(_generate.generate)
app.command("assemble")(_generate.assemble)
app.command("execute")(_execute.execute)
app.command("push")(_push.push)
app.command("versions")(_versions.versions)
app.command("eval")(_eval.eval_command)
app.command("import-official")(_import_official.import_official_command)
app.command("calibrate")(_calibrate.calibrate_command)
app.command("stats")(_stats.stats)
