module cairn.dev/examples

go 1.19

require cairn.dev/cairn v0.0.0

replace cairn.dev/cairn => ../../bindings/go
