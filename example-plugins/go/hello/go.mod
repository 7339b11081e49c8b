module hello

go 1.27.1
