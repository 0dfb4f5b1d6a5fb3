// Small file systems for tests of full and failing disks: a tmpfs of a few MiB (fills up quickly: ENOSPC) and an
// ext4 image on a loop device that can be shut down (EXT4_IOC_SHUTDOWN: every later I/O fails with EIO, as on
// a dead disk). Both need root (mount(8)); python3 issues the ioctl.
//
// mountSkipReason() says why they cannot be used here (not root, mount refused, no loop device): suites then
// skip with that reason on a developer's machine, and fail in CI (CI=true), which runs as root.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const inCi = process.env.CI === 'true' || process.env.CI === '1';

export interface Mount {
  readonly dir: string;
  /** Unmounts (lazily if busy) and removes the mount point (and the image of a loop mount). */
  unmount(): void;
}

export interface LoopMount extends Mount {
  /** EXT4_IOC_SHUTDOWN after a full sync: the file system fails every later operation with EIO. */
  shutdown(): void;
  /** Unmounts and mounts the image again (the file system comes back after a shutdown). */
  remount(): void;
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function probe(kind: 'tmpfs' | 'loop'): string | null {
  if (process.platform !== 'linux') return 'needs Linux (mount)';
  if (process.getuid?.() !== 0) return 'needs root to mount a small file system';
  let m: Mount | undefined;
  try {
    m = kind === 'tmpfs' ? mountTmpfs(1) : mountLoopExt4(8);
    if (kind === 'loop') execFileSync('python3', ['-c', 'import fcntl'], { stdio: 'ignore' });
    return null;
  } catch (e) {
    return `cannot ${kind === 'tmpfs' ? 'mount a tmpfs' : 'mount an ext4 image on a loop device (or run python3)'}: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    m?.unmount();
  }
}

/**
 * The `skip` option for a suite that mounts: a reason when it cannot here, else false. In CI a missing
 * capability is not skipped: the suite runs and fails, so a CI change that loses root is noticed.
 */
export function mountSkipReason(kind: 'tmpfs' | 'loop'): string | false {
  const reason = probe(kind);
  if (reason === null || inCi) return false;
  return reason;
}

export function mountTmpfs(sizeMiB: number): Mount {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-tmpfs-'));
  try {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, unmount: () => unmount(dir) };
}

export function mountLoopExt4(sizeMiB: number): LoopMount {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-ext4-'));
  const image = `${dir}.img`;
  const mount = (): void => sh('mount', ['-o', 'loop', image, dir]);
  try {
    sh('truncate', ['-s', `${sizeMiB}M`, image]);
    sh('mkfs.ext4', ['-q', '-F', image]);
    mount();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(image, { force: true });
    throw e;
  }
  return {
    dir,
    shutdown() {
      // EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32); flags 0 = EXT4_GOING_FLAGS_DEFAULT (sync first).
      const py = `import fcntl, os, struct\nfd = os.open(${JSON.stringify(dir)}, os.O_RDONLY)\nfcntl.ioctl(fd, 0x8004587D, struct.pack('I', 0))`;
      sh('python3', ['-c', py]);
    },
    remount() {
      sh('umount', [dir]);
      mount();
    },
    unmount() {
      unmount(dir);
      rmSync(image, { force: true });
    },
  };
}

function unmount(dir: string): void {
  try {
    sh('umount', [dir]);
  } catch {
    // Still busy (a process that has not exited yet): detach now, the kernel finishes when it is free.
    try {
      sh('umount', ['-l', dir]);
    } catch {}
  }
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {}
}
