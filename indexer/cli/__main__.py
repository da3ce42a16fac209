from indexer.cli.commands import main

raise SystemExit(main())
