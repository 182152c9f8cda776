//go:build !unix

package main

import "os"

// keepOwner: ownership is not carried over on this system.
func keepOwner(string, os.FileInfo) {}
