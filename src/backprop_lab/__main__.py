from backprop_lab.cli import main

raise SystemExit(main())
