import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomic';
import type { RunSettings } from './settings';

/** An artefact a stage produced, as the manifest records it (path relative to the run folder). */
export interface ArtefactRecord {
  path: string;
  bytes: number;
  sha256: string;
}

/** What the manifest says about one stage. */
export interface StageRecord {
  status: 'done';
  finishedAt: string;
  artefacts: ArtefactRecord[];
  /** Stage-specific numbers (counts, alpha, accuracy...). */
  details?: Record<string, unknown>;
}

/** How one teacher chunk verified. */
export interface TeacherChunkStats {
  /** Samples the teacher wrote. */
  samples: number;
  /** Of which verified correct. */
  correct: number;
  /** Kept (one per question and strategy). */
  kept: number;
}

/** Overall state of a run. */
export type RunStatus = 'running' | 'done' | 'stopped-early';

/** run.json: the run's settings and the status of each stage. */
export interface RunManifest {
  format: 'siked-run/1';
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** The resolved settings; a resume with different settings is refused. */
  config: RunSettings;
  seed: number;
  /** Who taught and who learned (names only; never keys). */
  teacher: string;
  student: string;
  /** `commit`: the siked checkout's git commit, when it runs from one (absent in older runs). */
  versions: { node: string; siked: string; commit?: string | null };
  /**
   * Each invocation that worked on the run (a resume adds one), until its last manifest write:
   * their sum is the run's wall time, killed invocations included (absent in older runs).
   */
  sessions?: Array<{ startedAt: string; until: string }>;
  /** Stage id (`split`, `teacher`, `iter-0/train`, ...) to its record, in completion order. */
  stages: Record<string, StageRecord>;
  /** Teacher chunks already appended to teacher.jsonl (`<strategy>:<chunk index>`). */
  teacherChunksDone: string[];
  /** Verification counts of each finished teacher chunk (same keys), so pass rates survive a resume. */
  teacherChunkStats: Record<string, TeacherChunkStats>;
  /** The iteration with the best validation accuracy so far (its model is the run's result). */
  bestIteration: number | null;
  /** Set when early stopping ended the run after this iteration. */
  stoppedAfterIteration: number | null;
}

/** The manifest file of a run folder. */
export function manifestPath(runDir: string): string {
  return path.join(runDir, 'run.json');
}

/** Reads run.json; null when the folder has none (a new run). */
export async function readManifest(runDir: string): Promise<RunManifest | null> {
  const file = manifestPath(runDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(text) as RunManifest;
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (manifest.format !== 'siked-run/1') {
    throw new Error(
      `${file}: field "format" must be "siked-run/1", got ${JSON.stringify(manifest.format)}`,
    );
  }
  return manifest;
}

/** Writes run.json atomically with a fresh `updatedAt`. */
export async function writeManifest(runDir: string, manifest: RunManifest): Promise<void> {
  manifest.updatedAt = new Date().toISOString();
  const session = manifest.sessions?.at(-1);
  if (session) session.until = manifest.updatedAt;
  await writeJsonAtomic(manifestPath(runDir), manifest);
}

async function hashFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const data = await fs.readFile(file);
  return { bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Describes artefacts (files, or every file of a folder) for the manifest. */
export async function describeArtefacts(
  runDir: string,
  relativePaths: readonly string[],
): Promise<ArtefactRecord[]> {
  const records: ArtefactRecord[] = [];
  for (const relative of relativePaths) {
    const absolute = path.join(runDir, relative);
    const stat = await fs.stat(absolute);
    const files = stat.isDirectory()
      ? (await fs.readdir(absolute)).sort().map((name) => path.join(relative, name))
      : [relative];
    for (const file of files)
      records.push({ path: file, ...(await hashFile(path.join(runDir, file))) });
  }
  return records;
}

/** True when every artefact the manifest lists for a stage is on disk with its recorded size. */
export async function artefactsPresent(runDir: string, stage: StageRecord): Promise<boolean> {
  for (const artefact of stage.artefacts) {
    const stat = await fs.stat(path.join(runDir, artefact.path)).catch(() => null);
    if (stat === null || stat.size !== artefact.bytes) return false;
  }
  return true;
}
