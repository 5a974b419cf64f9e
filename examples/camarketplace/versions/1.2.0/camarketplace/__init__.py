"""This directory is one build of CA Marketplace: ``manifest.json`` beside this package pins
the version. The code is the shared package ``examples/camarketplace/app/camarketplace``
(or ``$CAMARKETPLACE_APP_DIR/camarketplace`` when the build is installed elsewhere).
"""

import os
from pathlib import Path

_app_dir = os.environ.get("CAMARKETPLACE_APP_DIR") or Path(__file__).resolve().parents[3] / "app"
__path__.append(str(Path(_app_dir) / "camarketplace"))
