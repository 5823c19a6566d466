// The IAM actions the stand-in serves: each reads and validates its form
// parameters, applies the account's rules, and renders the inner XML of its
// `<XResult>` (undefined for actions IAM answers with no result). List actions
// page with MaxItems (default 100) and an opaque Marker, as IAM does.

import {
  compareKeys,
  type Group,
  type IamAccount,
  type ManagedPolicy,
  type Principal,
  type ServiceAccess,
} from './account';
import { validationError } from './errors';
import { MAX_ITEMS, type Params, RULES } from './params';
import { element, encodeRfc3986, escapeXml, field, members } from './xml';

export type ActionHandler = (params: Params) => string | undefined;

const DEFAULT_MAX_ITEMS = 100;

export function iamActions(account: IamAccount): Record<string, ActionHandler> {
  /** ListAttached*Policies: validation first, then the lookup, as IAM answers ValidationError before NoSuchEntity. */
  const listAttached = (p: Params, find: () => Principal) => {
    const pathPrefix = p.optional('PathPrefix', RULES.policyPathPrefix);
    // Names repeat across paths and owners (an AWS-managed and a customer ReadOnlyAccess): the ARN breaks ties.
    const page = pager(p, (policy: ManagedPolicy) => `${policy.name}\u0000${policy.arn}`);
    p.check();
    const policies = find()
      .attached.map((arn) => account.policy(arn))
      .filter((policy) => pathPrefix === undefined || policy.path.startsWith(pathPrefix));
    return page(policies, (list) =>
      members(
        'AttachedPolicies',
        list.map((policy) => field('PolicyName', policy.name) + field('PolicyArn', policy.arn)),
      ),
    );
  };
  const listInline = (p: Params, find: () => Principal) => {
    const page = pager(p, (name: string) => name);
    p.check();
    const names = [...find().inline.values()].map((policy) => policy.name);
    return page(names, (list) => members('PolicyNames', list.map(escapeXml)));
  };
  const getInline = (p: Params, nameParam: string, find: () => Principal, policyName: string) => {
    p.check();
    const principal = find();
    const policy = account.inlinePolicy(principal, policyName);
    return (
      field(nameParam, principal.name) +
      field('PolicyName', policy.name) +
      field('PolicyDocument', encodeRfc3986(policy.document))
    );
  };
  const putInline = (p: Params, find: () => Principal) => {
    const policyName = p.required('PolicyName', RULES.policyName);
    const document = p.required('PolicyDocument', RULES.policyDocument);
    p.check();
    account.putInlinePolicy(find(), policyName, document);
    return undefined;
  };
  const deleteInline = (p: Params, find: () => Principal) => {
    const policyName = p.required('PolicyName', RULES.policyName);
    p.check();
    account.deleteInlinePolicy(find(), policyName);
    return undefined;
  };
  const attach = (p: Params, find: () => Principal, change: 'attach' | 'detach') => {
    const arn = p.required('PolicyArn', RULES.policyArn);
    p.check();
    const principal = find();
    if (change === 'attach') account.attachPolicy(principal, arn);
    else account.detachPolicy(principal, arn);
    return undefined;
  };
  const user = (p: Params) => {
    const name = p.required('UserName', RULES.userName);
    return () => account.user(name);
  };
  const role = (p: Params) => {
    const name = p.required('RoleName', RULES.roleName);
    return () => account.role(name);
  };
  const group = (p: Params) => {
    const name = p.required('GroupName', RULES.groupName);
    return () => account.group(name);
  };

  return {
    GetUser: (p) => {
      const userName = p.optional('UserName', RULES.userName);
      p.check();
      // loopgate calls with role credentials, so there is no calling user to default to.
      if (userName === undefined)
        throw validationError('Must specify userName when calling with non-User credentials');
      return element('User', principalXml(account.user(userName), 'User'));
    },
    GetRole: (p) => {
      const find = role(p);
      p.check();
      const found = find();
      return element(
        'Role',
        principalXml(found, 'Role') +
          field('AssumeRolePolicyDocument', encodeRfc3986(found.assumeRolePolicyDocument)) +
          field('Description', found.description || undefined) +
          field('MaxSessionDuration', found.maxSessionDuration) +
          '<RoleLastUsed/>',
      );
    },
    ListGroupsForUser: (p) => {
      const find = user(p);
      const page = pager(p, (g: Group) => g.name);
      p.check();
      return page(account.groupsOf(find()), (list) =>
        members(
          'Groups',
          list.map((g) => principalXml(g, 'Group')),
        ),
      );
    },
    ListAttachedUserPolicies: (p) => listAttached(p, user(p)),
    ListAttachedRolePolicies: (p) => listAttached(p, role(p)),
    ListAttachedGroupPolicies: (p) => listAttached(p, group(p)),
    ListUserPolicies: (p) => listInline(p, user(p)),
    ListRolePolicies: (p) => listInline(p, role(p)),
    ListGroupPolicies: (p) => listInline(p, group(p)),
    GetUserPolicy: (p) => getInline(p, 'UserName', user(p), p.required('PolicyName', RULES.policyName)),
    GetRolePolicy: (p) => getInline(p, 'RoleName', role(p), p.required('PolicyName', RULES.policyName)),
    GetGroupPolicy: (p) => getInline(p, 'GroupName', group(p), p.required('PolicyName', RULES.policyName)),
    GetPolicy: (p) => {
      const arn = p.required('PolicyArn', RULES.policyArn);
      p.check();
      const policy = account.policy(arn);
      return element(
        'Policy',
        field('PolicyName', policy.name) +
          field('PolicyId', policy.id) +
          field('Arn', policy.arn) +
          field('Path', policy.path) +
          field('DefaultVersionId', policy.defaultVersionId) +
          field('AttachmentCount', account.attachmentCount(policy.arn)) +
          field('PermissionsBoundaryUsageCount', 0) +
          field('IsAttachable', true) +
          field('Description', policy.description || undefined) +
          field('CreateDate', policy.createDate) +
          field('UpdateDate', policy.updateDate),
      );
    },
    GetPolicyVersion: (p) => {
      const arn = p.required('PolicyArn', RULES.policyArn);
      const versionId = p.required('VersionId', RULES.versionId);
      p.check();
      const policy = account.policyVersion(arn, versionId);
      return element(
        'PolicyVersion',
        field('Document', encodeRfc3986(policy.document)) +
          field('VersionId', policy.defaultVersionId) +
          field('IsDefaultVersion', true) +
          field('CreateDate', policy.createDate),
      );
    },

    PutUserPolicy: (p) => putInline(p, user(p)),
    PutRolePolicy: (p) => putInline(p, role(p)),
    DeleteUserPolicy: (p) => deleteInline(p, user(p)),
    DeleteRolePolicy: (p) => deleteInline(p, role(p)),
    UpdateAssumeRolePolicy: (p) => {
      const find = role(p);
      const document = p.required('PolicyDocument', RULES.policyDocument);
      p.check();
      account.updateAssumeRolePolicy(find(), document);
      return undefined;
    },
    AttachUserPolicy: (p) => attach(p, user(p), 'attach'),
    AttachRolePolicy: (p) => attach(p, role(p), 'attach'),
    DetachUserPolicy: (p) => attach(p, user(p), 'detach'),
    DetachRolePolicy: (p) => attach(p, role(p), 'detach'),
    AddUserToGroup: (p) => {
      const groupName = p.required('GroupName', RULES.groupName);
      const userName = p.required('UserName', RULES.userName);
      p.check();
      account.addUserToGroup(groupName, userName);
      return undefined;
    },
    RemoveUserFromGroup: (p) => {
      const groupName = p.required('GroupName', RULES.groupName);
      const userName = p.required('UserName', RULES.userName);
      p.check();
      account.removeUserFromGroup(groupName, userName);
      return undefined;
    },

    GenerateServiceLastAccessedDetails: (p) => {
      const arn = p.required('Arn', RULES.arn);
      const granularity = p.optional('Granularity', RULES.granularity);
      p.check();
      const job = account.generateLastAccessedJob(
        arn,
        granularity === 'ACTION_LEVEL' ? granularity : 'SERVICE_LEVEL',
      );
      return field('JobId', job.id);
    },
    GetServiceLastAccessedDetails: (p) => {
      const jobId = p.required('JobId', RULES.jobId);
      const page = pager(p, (s: ServiceAccess) => `${s.serviceName}\u0000${s.serviceNamespace}`);
      p.check();
      const job = account.job(jobId);
      const { status, completedAt } = account.jobStatus(job);
      const header =
        field('JobStatus', status) +
        field('JobType', job.granularity) +
        field('JobCreationDate', job.createdAt);
      if (status === 'IN_PROGRESS') return `${header}<ServicesLastAccessed/>${field('IsTruncated', false)}`;
      const services = page(job.services, (list) =>
        members(
          'ServicesLastAccessed',
          list.map(
            (s) =>
              field('ServiceName', s.serviceName) +
              field('ServiceNamespace', s.serviceNamespace) +
              field('LastAuthenticated', s.lastAuthenticated) +
              field('LastAuthenticatedEntity', s.lastAuthenticatedEntity) +
              field('TotalAuthenticatedEntities', s.totalAuthenticatedEntities),
          ),
        ),
      );
      return header + services + field('JobCompletionDate', completedAt);
    },
  };
}

/**
 * Reads MaxItems and Marker (the caller then checks the parameters) and
 * returns a pager: items are sorted by `sortKey` (unique per item; compared
 * case-insensitively, as IAM lists come), a page starts after the marker's
 * key, and the marker names the last item returned, so paging stays correct
 * when items are added or removed between calls.
 */
function pager<T>(p: Params, sortKey: (item: T) => string) {
  const maxItems = p.integer('MaxItems', MAX_ITEMS) ?? DEFAULT_MAX_ITEMS;
  const marker = p.optional('Marker', RULES.marker);
  return (items: readonly T[], render: (page: T[]) => string): string => {
    const after = marker === undefined ? undefined : decodeMarker(marker);
    const sorted = [...items].sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
    const rest =
      after === undefined ? sorted : sorted.filter((item) => compareKeys(sortKey(item), after) > 0);
    const page = rest.slice(0, maxItems);
    const last = page[page.length - 1];
    const truncated = rest.length > page.length && last !== undefined;
    return (
      render(page) +
      field('IsTruncated', truncated) +
      (truncated ? field('Marker', encodeMarker(sortKey(last))) : '')
    );
  };
}

const MARKER_PREFIX = 'loopgate-iam:';

function encodeMarker(lastKey: string): string {
  return Buffer.from(MARKER_PREFIX + lastKey, 'utf8').toString('base64');
}

function decodeMarker(marker: string): string {
  const text = Buffer.from(marker, 'base64').toString('utf8');
  if (!text.startsWith(MARKER_PREFIX)) throw validationError('Invalid Marker');
  return text.slice(MARKER_PREFIX.length);
}

function principalXml(principal: Principal, noun: 'User' | 'Role' | 'Group'): string {
  return (
    field('Path', principal.path) +
    field(`${noun}Name`, principal.name) +
    field(`${noun}Id`, principal.id) +
    field('Arn', principal.arn) +
    field('CreateDate', principal.createDate)
  );
}
