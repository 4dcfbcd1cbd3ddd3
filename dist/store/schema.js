/** For `insert ... on conflict do nothing`: whether the row went in. */
export function insertedOne(result) {
    return result.numInsertedOrUpdatedRows === 1n;
}
