"""`python -m docqa`: the same CLI as the `docqa` command."""

from docqa.cli import main

if __name__ == "__main__":
    main()
