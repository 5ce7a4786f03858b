from desktop_search.cli import main

# Guarded: the forkserver of the reader processes (core/readers.py) imports this module again.
if __name__ == "__main__":
    main()
