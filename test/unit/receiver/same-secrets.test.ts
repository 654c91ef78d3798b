/**
 * `sameSecrets` decides whether a refresh after a signature mismatch found a
 * put-secret-value the cache had not seen: only then is the signature checked
 * again. Only the values count, both of them: a date read differently is
 * still the same secret.
 */
import { sameSecrets, type SigningSecrets } from '../../../lambda/core/ports';

const at = (iso: string) => new Date(iso);
const cached: SigningSecrets = {
  current: { value: 'whsec_new', createdAt: at('2026-11-27T09:00:00Z') },
  previous: { value: 'whsec_old', createdAt: at('2026-01-01T00:00:00Z') },
};

describe('sameSecrets', () => {
  it('holds the same values the same, whatever their dates', () => {
    const reread = { current: { ...cached.current!, createdAt: at('2026-11-27T09:00:05Z') }, previous: cached.previous };
    expect(sameSecrets(cached, reread)).toBe(true);
    expect(sameSecrets({}, {})).toBe(true);
  });

  it.each<[string, SigningSecrets]>([
    ['a new current value', { ...cached, current: { value: 'whsec_newer', createdAt: cached.current!.createdAt } }],
    ['a new previous value', { ...cached, previous: { value: 'whsec_older', createdAt: cached.previous!.createdAt } }],
    ['no previous value any more', { current: cached.current }],
    ['nothing at all', {}],
  ])('tells %s apart', (_name, latest) => {
    expect(sameSecrets(cached, latest)).toBe(false);
    expect(sameSecrets(latest, cached)).toBe(false);
  });
});
