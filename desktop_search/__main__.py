from desktop_search.cli.root import main

# Guarded: the forkserver of the reader processes (index/readers.py) imports this module again.
if __name__ == "__main__":
    main()
