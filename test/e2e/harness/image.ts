/**
 * @module
 * A tiny image made on the spot, no network: one layer holding one file, as an OCI image layout
 * that skopeo can copy (`oci:<dir>:<tag>`).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

interface Blob {
  digest: string;
  size: number;
}

async function putBlob(layout: string, bytes: Buffer): Promise<Blob> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(layout, 'blobs/sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** Builds `<dir>/layout` and returns the skopeo reference to it. */
export async function makeOciImage(dir: string, tag = 'v1'): Promise<string> {
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(layout, 'blobs/sha256'), { recursive: true });
  await mkdir(rootfs, { recursive: true });
  await writeFile(join(rootfs, 'hello.txt'), 'hello from berth\n');
  await promisify(execFile)('tar', ['-C', rootfs, '-cf', join(dir, 'layer.tar'), 'hello.txt']);
  const layer = await putBlob(layout, await readFile(join(dir, 'layer.tar')));
  const config = await putBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = await putBlob(
    layout,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return `oci:${layout}:${tag}`;
}
