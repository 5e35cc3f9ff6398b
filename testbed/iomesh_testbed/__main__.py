from iomesh_testbed.cli import main

raise SystemExit(main())
