//go:build !(386 || arm || mips || mipsle)

package faultfs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node that checks for faults before passing a call
// on. Write operations are not wrapped: the mount is read-only.
type node struct {
	*fs.LoopbackNode
	fs *FS
	m  *mount
}

var (
	_ fs.NodeWrapChilder     = (*node)(nil)
	_ fs.NodeLookuper        = (*node)(nil)
	_ fs.NodeGetattrer       = (*node)(nil)
	_ fs.NodeOpener          = (*node)(nil)
	_ fs.NodeOpendirHandler  = (*node)(nil)
	_ fs.NodeReaddirer       = (*node)(nil)
	_ fs.NodeReadlinker      = (*node)(nil)
	_ fs.NodeStatfser        = (*node)(nil)
	_ fs.NodeGetxattrer      = (*node)(nil)
	_ fs.NodeListxattrer     = (*node)(nil)
	_ fs.NodeCopyFileRanger  = (*node)(nil)
	_ fs.FileReader          = (*file)(nil)
	_ fs.FileGetattrer       = (*file)(nil)
	_ fs.FileLseeker         = (*file)(nil)
	_ fs.FileFlusher         = (*file)(nil)
	_ fs.FileReleaser        = (*file)(nil)
	_ fs.FileReaddirenter    = (*dir)(nil)
	_ fs.FileReleasedirer    = (*dir)(nil)
	_ fs.FileSeekdirer       = (*dir)(nil)
	_ fs.FilePassthroughFder = (*file)(nil)
)

// WrapChild makes every node of the tree a faulting one.
func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), fs: n.fs, m: n.m}
}

// rel is the node's path relative to the backing folder ("" for its root).
func (n *node) rel() string { return n.Path(nil) }

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.m.unplug.Load() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Lookup(ctx, name, out)
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if n.m.unplug.Load() {
		return syscall.EIO
	}
	if ff, ok := f.(*file); ok {
		return ff.Getattr(ctx, out)
	}
	return n.LoopbackNode.Getattr(ctx, nil, out)
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if n.m.unplug.Load() {
		return nil, 0, syscall.EIO
	}
	if e := n.fs.faults.get(n.rel()).open; e != 0 {
		return nil, 0, e
	}
	fh, _, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &file{LoopbackFile: fh.(*fs.LoopbackFile), n: n}, fuse.FOPEN_DIRECT_IO, 0
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if n.m.unplug.Load() {
		return nil, 0, syscall.EIO
	}
	if e := n.fs.faults.get(n.rel()).open; e != 0 {
		return nil, 0, e
	}
	ds, errno := n.LoopbackNode.Readdir(ctx)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dir{DirStream: ds, n: n}, 0, 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	if n.m.unplug.Load() {
		return nil, syscall.EIO
	}
	if e := n.fs.faults.get(n.rel()).readdir; e != 0 {
		return nil, e
	}
	return n.LoopbackNode.Readdir(ctx)
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if n.m.unplug.Load() {
		return nil, syscall.EIO
	}
	return n.LoopbackNode.Readlink(ctx)
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	if n.m.unplug.Load() {
		return syscall.EIO
	}
	return n.LoopbackNode.Statfs(ctx, out)
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENODATA
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	return 0, 0
}

// CopyFileRange is refused, so that data is only ever read through Read.
func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut uint64, len uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EXDEV
}

// file is an open file that checks for faults on every read.
type file struct {
	*fs.LoopbackFile
	n *node
}

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if f.n.m.unplug.Load() {
		return nil, syscall.EIO
	}
	if f.n.fs.faults.get(f.n.rel()).readFails(off, int64(len(buf))) {
		return nil, syscall.EIO
	}
	return f.LoopbackFile.Read(ctx, buf, off)
}

func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	if f.n.m.unplug.Load() {
		return syscall.EIO
	}
	return f.LoopbackFile.Getattr(ctx, out)
}

func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	if f.n.m.unplug.Load() {
		return 0, syscall.EIO
	}
	return f.LoopbackFile.Lseek(ctx, off, whence)
}

func (f *file) Flush(ctx context.Context) syscall.Errno {
	if f.n.m.unplug.Load() {
		return syscall.EIO
	}
	return f.LoopbackFile.Flush(ctx)
}

// Release closes the backing file, unplugged or not.
func (f *file) Release(ctx context.Context) syscall.Errno {
	return f.LoopbackFile.Release(ctx)
}

// PassthroughFd declines kernel passthrough, which would read the backing
// file without asking Read.
func (f *file) PassthroughFd() (int, bool) { return 0, false }

// dir is an open folder that checks for faults on every read of entries.
type dir struct {
	fs.DirStream
	n *node
}

func (d *dir) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if d.n.m.unplug.Load() {
		return nil, syscall.EIO
	}
	if e := d.n.fs.faults.get(d.n.rel()).readdir; e != 0 {
		return nil, e
	}
	return d.DirStream.(fs.FileReaddirenter).Readdirent(ctx)
}

func (d *dir) Releasedir(ctx context.Context, flags uint32) {
	if r, ok := d.DirStream.(fs.FileReleasedirer); ok {
		r.Releasedir(ctx, flags)
		return
	}
	d.DirStream.Close()
}

func (d *dir) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if d.n.m.unplug.Load() {
		return syscall.EIO
	}
	if s, ok := d.DirStream.(fs.FileSeekdirer); ok {
		return s.Seekdir(ctx, off)
	}
	return syscall.ENOTSUP
}
