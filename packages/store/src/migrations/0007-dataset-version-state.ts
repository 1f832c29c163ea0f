import { type Kysely, sql } from "kysely";

/**
 * A dataset version's state in words (issue 12). Frozen in time: never import application code
 * here.
 *
 * `import_status` and `release_status` held Qianfan V1 numeric codes while the version's events
 * named the same states in words; one `state` column now holds those words: Created, Importing,
 * Imported, ImportFailed, Released. A released version (release 2) had imported. Sailfin never
 * wrote an import's 0 (init) or 4 (terminated), nor a release's 1 or 3; were one there, init
 * reads as Created and terminated as ImportFailed. The column's default is the state a new
 * version starts in (SQLite adds a NOT NULL column only with one).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("dataset_versions")
    .addColumn("state", "text", (c) => c.notNull().defaultTo("Created"))
    .execute();
  await db.updateTable("dataset_versions").set({
    state: sql`case
      when release_status = 2 then 'Released'
      when import_status = 1 then 'Importing'
      when import_status = 2 then 'Imported'
      when import_status in (3, 4) then 'ImportFailed'
      else 'Created' end`,
  }).execute();
  // SQLite drops one column a statement.
  await db.schema.alterTable("dataset_versions").dropColumn("import_status").execute();
  await db.schema.alterTable("dataset_versions").dropColumn("release_status").execute();
}
