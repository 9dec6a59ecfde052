import sys

from fedinet.cli import main

sys.exit(main())
