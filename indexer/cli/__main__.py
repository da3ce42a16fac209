from indexer.cli.main import main

raise SystemExit(main())
