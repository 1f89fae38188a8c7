import { describe, expect, it } from 'vitest';
import { editDistance } from '../../../core/io/edit-distance.js';

describe('editDistance', () => {
  it.each([
    ['host', 'host', 0],
    ['host', 'hots', 2],
    ['profile', 'profle', 1],
    ['', 'abc', 3],
    ['usernameEnv', 'usernameenv', 1],
  ])('%j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});
