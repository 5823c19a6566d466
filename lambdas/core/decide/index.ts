// Deciding: read an approver's note, check they may decide, and work out what
// their vote does to the request. Pure core: the ports are the only way out.

export {
  COMMAND_SYNTAX,
  COMMAND_VERBS,
  type Command,
  type CommandVerb,
  type ParsedNote,
  parseCommand,
} from './command';
export {
  type ApproverRule,
  type Authorization,
  type AuthorizeDeps,
  type AuthorizeInput,
  authorizeApprover,
  describeApprovers,
} from './authorize';
export { applyDecision, type DecisionStep, grantDuration, type RecordedDecision, type Vote } from './decide';
export { addressProblem, sameAddress } from './identity';
