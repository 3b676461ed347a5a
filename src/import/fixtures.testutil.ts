import { assetPath } from '../paths.js';

// Copies of shared/seeds/001_*.txt and 002_*.txt: the archived mails as they are.
export const SEED_001 = assetPath('src', 'import', 'fixtures', '001_10d37096674e6ed4.txt');
export const SEED_002 = assetPath('src', 'import', 'fixtures', '002_2f8d16699e9eaf53.txt');

/** A paste of issue 20's kinds, written for the tests (import-pastes.test.ts). */
export const pasteFixture = (name: string) => assetPath('src', 'import', 'fixtures', name);
