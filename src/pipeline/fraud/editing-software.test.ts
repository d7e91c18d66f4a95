import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { exifSoftware, softwareMetadata, xmpSoftware } from '../image/metadata.ts';
import { editorIn } from './editing-software.ts';

/** What the service reads of a file: its software metadata at decoding, then the editor among it. */
async function readMetadata(bytes: Buffer) {
  const m = softwareMetadata(await sharp(bytes).metadata());
  const editor = editorIn(m.software);
  return { ...m, ...(editor ? { editor } : {}) };
}

const blank = () => sharp({ create: { width: 32, height: 24, channels: 3, background: '#888' } });

test('readMetadata: an editor in EXIF Software is named; a camera firmware is not an editor', async () => {
  const edited = await blank()
    .jpeg()
    .withExif({ IFD0: { Software: 'Adobe Photoshop 25.0' } })
    .toBuffer();
  assert.deepEqual(await readMetadata(edited), {
    present: true,
    software: ['Adobe Photoshop 25.0'],
    editor: 'Adobe Photoshop 25.0',
  });
  const camera = await blank()
    .jpeg()
    .withExif({ IFD0: { Software: 'HDR+ 1.0.540104767zd', Make: 'Google' } })
    .toBuffer();
  const m = await readMetadata(camera);
  assert.equal(m.present, true);
  assert.equal(m.editor, undefined);
  assert.deepEqual(m.software, ['HDR+ 1.0.540104767zd']);
  // No metadata at all (stripped): nothing to say.
  assert.deepEqual(await readMetadata(await blank().png().toBuffer()), { present: false, software: [] });
});

test('editing software: XMP CreatorTool and history agents, big-endian EXIF, broken blocks', () => {
  assert.deepEqual(
    xmpSoftware(
      Buffer.from(
        '<x:xmpmeta><rdf:Description xmp:CreatorTool="GIMP 2.10"><stEvt:softwareAgent>Adobe Photoshop Lightroom Classic</stEvt:softwareAgent></rdf:Description></x:xmpmeta>',
      ),
    ),
    ['GIMP 2.10', 'Adobe Photoshop Lightroom Classic'],
  );
  // A big-endian TIFF header with one ASCII Software entry stored after the IFD.
  const value = Buffer.from('GIMP 2.10\0', 'latin1');
  const t = Buffer.alloc(8 + 2 + 12 + 4 + value.length);
  t.write('MM', 0, 'latin1');
  t.writeUInt16BE(42, 2);
  t.writeUInt32BE(8, 4);
  t.writeUInt16BE(1, 8);
  t.writeUInt16BE(0x0131, 10);
  t.writeUInt16BE(2, 12);
  t.writeUInt32BE(value.length, 14);
  t.writeUInt32BE(26, 18);
  value.copy(t, 26);
  assert.deepEqual(exifSoftware(Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t])), ['GIMP 2.10']);
  // Truncated or foreign blocks read empty, never throw.
  assert.deepEqual(exifSoftware(t.subarray(0, 20)), []);
  assert.deepEqual(exifSoftware(Buffer.from('not exif at all')), []);
});
