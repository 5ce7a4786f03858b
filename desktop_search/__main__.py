from desktop_search.cli import main

main()
