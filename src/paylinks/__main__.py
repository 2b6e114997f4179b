from paylinks.cli import main

main()
