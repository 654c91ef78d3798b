import { JOB_ATTRIBUTES, isStackOwnedJobAttribute } from '../../../lambda/core/contract';
import { DESCRIPTIVE_FIELDS, TERMINAL_FIELDS, applyToItem } from '../../../lambda/core/job-state';
import { NOW, completed, jobEvent } from './factories';

describe('the job item attributes the stack owns', () => {
  it('include every attribute the worker writes, so none is mistaken for the product\'s', () => {
    // Prepare: every attribute the pure model writes, over a job's whole life.
    const started = applyToItem(undefined, jobEvent({ inputRef: 'https://in.example.com/v.mp4' }), { force: false }, NOW);
    const done = applyToItem(started, completed(), { force: false }, NOW);

    // Act
    const unowned = Object.keys(done).filter((name) => !isStackOwnedJobAttribute(name));

    // Assess
    expect(unowned).toEqual([]);
    for (const field of [...DESCRIPTIVE_FIELDS, ...TERMINAL_FIELDS]) expect(isStackOwnedJobAttribute(field)).toBe(true);
  });

  it('leave a product attribute the product\'s own', () => {
    expect(isStackOwnedJobAttribute('userId')).toBe(false);
    expect(isStackOwnedJobAttribute('sceneTags')).toBe(false);
    expect(Object.values(JOB_ATTRIBUTES)).toContain('lastOrigin');
  });
});
