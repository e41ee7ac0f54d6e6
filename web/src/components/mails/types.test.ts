import { describe, expect, it } from 'vitest';
import { fieldOf, inFlight, lastErrorText, sendBody, validateSend, type SendValues } from './types';

const ok: SendValues = { to: ['claire@example.fr'], cc: [], subject: 'Objet', message: '', language: 'fr' };

describe('mail send checks', () => {
  it('wants one recipient at least, each a mail address', () => {
    expect(validateSend(ok)).toEqual({});
    expect(validateSend({ ...ok, to: [] })).toEqual({ to: 'recipient_required' });
    expect(validateSend({ ...ok, to: ['claire@example.fr', 'pas une adresse'] })).toEqual({ to: 'invalid_email' });
    expect(validateSend({ ...ok, cc: ['x@y'] })).toEqual({ cc: 'invalid_email' });
    expect(validateSend({ ...ok, to: Array.from({ length: 21 }, (_, i) => `a${i}@b.fr`) })).toEqual({ to: 'too_many' });
    expect(validateSend({ ...ok, subject: 'x'.repeat(201), message: 'y'.repeat(10001) })).toEqual({ subject: 'too_long', message: 'too_long' });
  });
  it('sends trimmed unique addresses and leaves empty fields out', () => {
    expect(sendBody({ ...ok, to: [' claire@example.fr', 'claire@example.fr', 'paul@example.fr'], subject: '  ', message: ' Bonjour ' })).toEqual({
      to: ['claire@example.fr', 'paul@example.fr'],
      cc: [],
      language: 'fr',
      message: 'Bonjour',
    });
  });
  it("names the form's field of a server error path", () => {
    expect(fieldOf('to')).toBe('to');
    expect(fieldOf('to[1]')).toBe('to');
    expect(fieldOf('cc.0')).toBe('cc');
    expect(fieldOf('subject')).toBe('subject');
    expect(fieldOf('report')).toBeNull();
    expect(fieldOf('total')).toBeNull();
  });
  it('knows a mail on its way and reads its error', () => {
    expect(inFlight({ status: 'queued' })).toBe(true);
    expect(inFlight({ status: 'sending' })).toBe(true);
    expect(inFlight({ status: 'failed' })).toBe(false);
    expect(lastErrorText({ code: 'smtp', message: 'Connexion refusée / Connection refused' })).toBe('Connexion refusée / Connection refused');
    expect(lastErrorText('timeout')).toBe('timeout');
    expect(lastErrorText(null)).toBe('');
  });
});
