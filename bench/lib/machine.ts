import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';

/** What the figures were measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
  readonly openFilesLimit: number | null;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: `${osType()} ${release()}`,
    openFilesLimit: openFilesLimit(),
  };
}

/** The soft limit on open files of this process (children inherit it), from /proc. */
export function openFilesLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return null;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return null;
  }
}

/** The 1-minute load average (the bench itself adds to it while it runs). */
export function loadAverage(): number {
  return loadavg()[0];
}

/**
 * CPU seconds used so far by the whole machine and by the bench with its
 * reaped children (/proc/stat and /proc/self/stat: utime, stime, cutime,
 * cstime). Between two readings taken while no child runs, the difference is
 * the CPU other work took: the noise in the figures. Null off Linux.
 */
export function cpuAccount(): { machineSeconds: number; oursSeconds: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const self = readFileSync('/proc/self/stat', 'utf8');
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    // utime, stime, cutime, cstime are fields 14-17 (11-14 after the command name).
    const ours = fields[11] + fields[12] + fields[13] + fields[14];
    return { machineSeconds: (user + nice + system + irq + softirq + (steal || 0)) / 100, oursSeconds: ours / 100 };
  } catch {
    return null;
  }
}
