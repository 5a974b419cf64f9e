from releasegate.cli.main import run

run()
