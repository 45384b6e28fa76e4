/**
 * Spark side of the student: packing rows into minibatches, the synchronous parameter-averaging trainer,
 * and evaluation on the cluster. Networks are kept one per task slot per executor JVM ({@link
 * dev.distill.student.spark.NetworkPool}) and rebuilt from broadcast flat parameters.
 */
package dev.distill.student.spark;
