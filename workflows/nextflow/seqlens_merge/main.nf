// nf-core-style module: `seqlens merge`, joining the shards of one seqlens job (given in
// shard order) into what the unsharded run writes. Not run in seqlens' CI (no Nextflow).
process SEQLENS_MERGE {
    tag "${meta.id}"
    label 'process_single'

    input:
    tuple val(meta), path(parts, stageAs: 'part??/*')   // in shard order: 1/N first

    output:
    tuple val(meta), path("${task.ext.prefix ?: meta.id}.tsv"), emit: merged
    path "versions.yml"                                     , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    seqlens merge ${parts.join(' ')} --out ${prefix}.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        seqlens: \$(seqlens --version | sed 's/^seqlens //')
    END_VERSIONS
    """
}
