from minik8s.cli.main import main

main()
