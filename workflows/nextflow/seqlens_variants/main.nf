// nf-core-style module: one shard of `seqlens variants` (variant-effect scores of a VCF
// against a reference FASTA). Not run in seqlens' CI, which has no Nextflow; the Snakemake
// workflow (../../snakemake) is the tested path. Join the shards with SEQLENS_MERGE.
process SEQLENS_VARIANTS {
    tag "${meta.id}:${shard ?: 'all'}"
    label 'process_medium'

    input:
    tuple val(meta), path(vcf)
    path model
    tuple path(fasta), path(fai)
    val shard            // "I/N" for one shard, or '' for the whole VCF

    output:
    tuple val(meta), path("*.tsv"), emit: scores
    path "versions.yml"           , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args      = task.ext.args ?: ''      // e.g. '--scores diff,log_odds --backend gpu'
    def prefix    = task.ext.prefix ?: "${meta.id}"
    def shard_arg = shard ? "--shard ${shard}" : ''
    def suffix    = shard ? ".${shard.replace('/', '-of-')}" : ''
    """
    RAYON_NUM_THREADS=${task.cpus} seqlens variants \\
        --model ${model} \\
        --vcf ${vcf} \\
        --genome ${fasta} \\
        ${shard_arg} \\
        ${args} \\
        --out ${prefix}${suffix}.tsv

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        seqlens: \$(seqlens --version | sed 's/^seqlens //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.tsv
    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        seqlens: \$(seqlens --version | sed 's/^seqlens //')
    END_VERSIONS
    """
}
