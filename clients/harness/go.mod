module github.com/dewstack/dewstack/clients/harness

go 1.21
