module conformance

go 1.27.1
