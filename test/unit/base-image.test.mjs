// scripts/lib/dataplane/base-image.mjs: which apt sources of this machine the base image is built from, and its tag.
// (The build itself runs in test/integration/local-e2e.test.mjs: npm run local builds or reuses it.)
import { baseImageTag, debianSources, BASE_REPOSITORY } from '../../scripts/lib/dataplane/base-image.mjs';

describe('debianSources', () => {
  test('deb822: every URI x bookworm suite of enabled "deb" stanzas, with their keyring; other suites and deb-src skipped', () => {
    const text = [
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main contrib',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb-src',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm',
      'Components: main',
      '',
      'Types: deb',
      'Enabled: no',
      'URIs: http://old.example/debian',
      'Suites: bookworm',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian',
      'Suites: trixie',
      'Components: main',
    ].join('\n');
    expect(debianSources([{ file: '/etc/apt/sources.list.d/debian.sources', text }])).toEqual([
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main contrib',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main contrib',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  test('one-line files: deb lines of bookworm (options kept, comments dropped), others skipped, duplicates once', () => {
    const text = [
      '# deb http://commented.example/debian bookworm main',
      'deb [arch=amd64] http://mirror.example/debian bookworm main # trailing',
      'deb http://mirror.example/debian bookworm main',
      'deb http://mirror.example/debian bookworm main',
      'deb-src http://mirror.example/debian bookworm main',
      'deb http://security.debian.org bookworm/updates main',
      'deb https://deb.nodesource.com/node_20.x nodistro main',
    ].join('\n');
    expect(debianSources([{ file: '/etc/apt/sources.list', text }])).toEqual([
      'deb [arch=amd64] http://mirror.example/debian bookworm main',
      'deb http://mirror.example/debian bookworm main',
      'deb http://security.debian.org bookworm/updates main',
    ]);
  });

  test('no Debian 12 source: nothing (the caller then names the fix)', () => {
    expect(debianSources([{ file: '/etc/apt/sources.list', text: 'deb http://archive.ubuntu.com/ubuntu jammy main\n' }])).toEqual([]);
  });
});

describe('baseImageTag', () => {
  test('staging-rollout/base:<12 hex digits>, stable for the same definition', () => {
    expect(baseImageTag()).toMatch(new RegExp(`^${BASE_REPOSITORY}:[0-9a-f]{12}$`));
    expect(baseImageTag()).toBe(baseImageTag());
  });
});
