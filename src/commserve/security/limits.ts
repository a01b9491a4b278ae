import { CsError } from '../errors.js';

// Bounded work per request for writing security associations, from either
// side. A request expands to one item per (entity, association); every item is
// resolved, checked, written and answered, so the product is what costs, and
// what is capped. The README's POST Security row documents these numbers.

/** Most entities one POST Security names (`entityAssociated.entity`). */
export const MAX_ENTITIES = 10_000;
/** Most associations one POST Security names (`securityAssociations.associations`). */
export const MAX_ASSOCIATIONS = 10_000;
/**
 * Most items one request expands to: entities × associations in POST
 * Security, the entities of all associations of one principal-side block
 * (POST User, POST UserGroup…). 10 000 × 1 and 1 × 10 000 both fit.
 */
export const MAX_ITEMS = 10_000;
/** Most characters of a caller's own text (a name it sent) echoed in an error message. */
export const MAX_ECHO = 100;

/** Refuses, before any lookup, a request that would expand to more than MAX_ITEMS items. */
export function checkItems(items: number, shape: string): void {
  if (items > MAX_ITEMS) {
    throw new CsError(
      'BAD_REQUEST',
      `a request may expand to at most ${MAX_ITEMS} associations (entities × associations); this one names ${shape}`,
    );
  }
}

/** POST Security's product: entities × associations. */
export function checkEntitySide(entities: number, associations: number): void {
  checkItems(entities * associations, `${entities} × ${associations} = ${entities * associations}`);
}

/**
 * The principal side's count: the entities of every association of one block,
 * counted without resolving anything; a lone entity (not a list) counts one.
 */
export function checkPrincipalSide(associations: readonly unknown[]): void {
  if (associations.length > MAX_ASSOCIATIONS) {
    throw new CsError(
      'BAD_REQUEST',
      `at most ${MAX_ASSOCIATIONS} associations per request; this one names ${associations.length}`,
    );
  }
  let items = 0;
  for (const a of associations) {
    const entity = (a as { entities?: { entity?: unknown } } | null)?.entities?.entity;
    items += Array.isArray(entity) ? entity.length : entity === undefined ? 0 : 1;
  }
  checkItems(items, `${items} entities over ${associations.length} associations`);
}

/** The caller's own text as an error message repeats it: at most MAX_ECHO characters. */
export function echo(text: string): string {
  return text.length <= MAX_ECHO ? text : `${text.slice(0, MAX_ECHO)}…`;
}
