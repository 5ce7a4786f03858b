from desktop_search.cli import main

# Guarded: a child process started with "spawn" (core/probe.py) imports this module again.
if __name__ == "__main__":
    main()
