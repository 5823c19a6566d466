// What loopgate reads from Okta's objects, checked before it is trusted, and
// turned into the directory facts of core/context.ts. The SDK hands back its
// model classes without checking them (a missing field stays undefined, a bad
// date becomes an Invalid Date), so every field used is validated here.

import { z } from 'zod';
import type { DirectoryUser, MfaFactor, SignIn } from '../../core/context';

/** Okta leaves absent attributes out or sends null; both mean "not set". */
const text = z
  .string()
  .nullish()
  .transform((v) => (v ? v : undefined));
const id = z.string().min(1);

const userShape = z.object({
  id,
  status: z.string().min(1),
  created: z.date(),
  profile: z.object({
    login: z.string().min(1),
    email: z.string().min(1),
    displayName: text,
    firstName: text,
    lastName: text,
    title: text,
    department: text,
    managerId: text,
  }),
});

const groupShape = z.object({ id, profile: z.object({ name: z.string().min(1) }) });

const factorShape = z.object({ factorType: z.string().min(1), provider: text, status: z.string().min(1) });

const signInShape = z.object({
  eventType: z.string(),
  published: z.date(),
  actor: z.object({ id: z.string() }),
  outcome: z.object({ result: z.string().min(1) }),
  client: z
    .object({
      ipAddress: text,
      device: text,
      userAgent: z.object({ os: text, browser: text }).nullish(),
      geographicalContext: z.object({ country: text, city: text }).nullish(),
    })
    .nullish(),
});

const memberShape = z.object({ id });

export function toDirectoryUser(raw: unknown): DirectoryUser {
  const user = userShape.parse(raw);
  const { profile } = user;
  const fullName = [profile.firstName, profile.lastName].filter(Boolean).join(' ');
  return {
    id: user.id,
    login: profile.login,
    email: profile.email,
    status: user.status,
    displayName: profile.displayName ?? (fullName || profile.login),
    ...(profile.title ? { title: profile.title } : {}),
    ...(profile.department ? { department: profile.department } : {}),
    ...(profile.managerId ? { managerId: profile.managerId } : {}),
    createdAt: user.created.toISOString(),
  };
}

export function toGroup(raw: unknown): { id: string; name: string } {
  const group = groupShape.parse(raw);
  return { id: group.id, name: group.profile.name };
}

export function toFactor(raw: unknown): MfaFactor {
  const factor = factorShape.parse(raw);
  return {
    type: factor.factorType,
    ...(factor.provider ? { provider: factor.provider } : {}),
    status: factor.status,
  };
}

/** A `user.session.start` event as a sign-in; undefined when the event is not one of `userId`'s sign-ins. */
export function toSignIn(raw: unknown, userId: string): SignIn | undefined {
  const event = signInShape.parse(raw);
  // Okta applies the filter; checking again costs nothing and keeps another user's sign-ins off the page.
  if (event.eventType !== 'user.session.start' || event.actor.id !== userId) return undefined;
  const client = event.client;
  const device = describeDevice(client?.userAgent?.browser, client?.userAgent?.os, client?.device);
  return {
    at: event.published.toISOString(),
    outcome: event.outcome.result,
    ...(client?.geographicalContext?.country ? { country: client.geographicalContext.country } : {}),
    ...(client?.geographicalContext?.city ? { city: client.geographicalContext.city } : {}),
    ...(device ? { device } : {}),
    ...(client?.ipAddress ? { ip: client.ipAddress } : {}),
  };
}

export function toMemberId(raw: unknown): string {
  return memberShape.parse(raw).id;
}

/** "CHROME on Android (Mobile)": Okta's own names, leaving out the ones it does not know. */
function describeDevice(browser?: string, os?: string, kind?: string): string | undefined {
  const known = (v?: string) => (v && !/^unknown$/i.test(v) ? v : undefined);
  const software = [known(browser), known(os)].filter(Boolean).join(' on ');
  const form = known(kind);
  if (software && form) return `${software} (${form})`;
  return software || form;
}
