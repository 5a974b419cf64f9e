from releasegate.cli.entry import run

run()
