from cobro_tui.cli import main

raise SystemExit(main())
