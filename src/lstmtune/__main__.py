import sys

from lstmtune.cli import main

sys.exit(main())
