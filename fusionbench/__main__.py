"""``python -m fusionbench`` runs the CLI."""

from fusionbench.cli import main

main()
