module cairn.dev/cairn

go 1.19
